/* mcubench CoreMark port (own code): timer (SysTick with wrap count), semihosting
 * output, a main() that follows CoreMark's core_main.c sequence for a single context
 * (static memory, volatile seeds) and reports ticks = core cycles. */
#include <stdarg.h>
#include "coremark.h"
#ifndef ITERATIONS
#define ITERATIONS 200
#endif
volatile ee_s32 seed1_volatile = 0x0;
volatile ee_s32 seed2_volatile = 0x0;
volatile ee_s32 seed3_volatile = 0x66;
volatile ee_s32 seed4_volatile = ITERATIONS;
volatile ee_s32 seed5_volatile = 0;
ee_u32 default_num_contexts = 1;

#define SYST_CSR (*(volatile ee_u32 *)0xE000E010)
#define SYST_RVR (*(volatile ee_u32 *)0xE000E014)
#define SYST_CVR (*(volatile ee_u32 *)0xE000E018)
static volatile ee_u32 wraps;
void SysTick_Handler(void) { wraps++; }
static CORE_TICKS now(void) {
    ee_u32 w, v;
    do { w = wraps; v = SYST_CVR; } while (w != wraps);
    return ((CORE_TICKS)w << 24) + (0xFFFFFFu - v);
}
static CORE_TICKS t0, t1;
void start_time(void) { t0 = now(); }
void stop_time(void) { t1 = now(); }
CORE_TICKS get_time(void) { return t1 - t0; }
secs_ret time_in_secs(CORE_TICKS ticks) { return (secs_ret)(ticks / 1000000u); }

static void semi_write0(const char *s) {
    register int r0 __asm__("r0") = 4;
    register const char *r1 __asm__("r1") = s;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}
void semi_exit(int code) {
    register int r0 __asm__("r0") = 0x18;
    register int r1 __asm__("r1") = code ? 0x20024 : 0x20026;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {}
}
static char *put_u(char *o, unsigned long long v, unsigned base, int width, char pad) {
    char tmp[24]; int n = 0;
    do { unsigned d = (unsigned)(v % base); tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10); v /= base; } while (v);
    while (n < width) { tmp[n++] = pad; }
    while (n) *o++ = tmp[--n];
    return o;
}
int ee_printf(const char *fmt, ...) {
    char buf[256], *o = buf; va_list ap; va_start(ap, fmt);
    for (; *fmt && o < buf + 200; fmt++) {
        if (*fmt != '%') { *o++ = *fmt; continue; }
        fmt++; char pad = ' '; int width = 0, ll = 0;
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') { ll++; fmt++; }
        switch (*fmt) {
        case 'd': { long long v = ll == 2 ? va_arg(ap, long long) : va_arg(ap, int);
                    if (v < 0) { *o++ = '-'; v = -v; } o = put_u(o, (unsigned long long)v, 10, width, pad); break; }
        case 'u': o = put_u(o, ll == 2 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned), 10, width, pad); break;
        case 'x': o = put_u(o, ll == 2 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned), 16, width, pad); break;
        case 's': { const char *s = va_arg(ap, const char *); while (*s) *o++ = *s++; break; }
        default: *o++ = *fmt;
        }
    }
    *o = 0; va_end(ap); semi_write0(buf); return (int)(o - buf);
}

void *iterate(void *pres);  /* from core_main.c semantics, reproduced below */
static ee_u16 list_known_crc[] = { 0xd4b0, 0x3340, 0x6a79, 0xe714, 0xe3c1 };
static ee_u16 matrix_known_crc[] = { 0xbe52, 0x1199, 0x5608, 0x1fd7, 0x0747 };
static ee_u16 state_known_crc[] = { 0x5e47, 0x39bf, 0xe5a4, 0x8e3a, 0x8d84 };
void *iterate(void *pres) {
    ee_u32 i; ee_u16 crc; core_results *res = (core_results *)pres;
    ee_u32 iterations = res->iterations;
    res->crc = 0; res->crclist = 0; res->crcmatrix = 0; res->crcstate = 0;
    for (i = 0; i < iterations; i++) {
        crc = core_bench_list(res, 1);
        res->crc = crcu16(crc, res->crc);
        crc = core_bench_list(res, -1);
        res->crc = crcu16(crc, res->crc);
        if (i == 0) res->crclist = res->crc;
    }
    return NULL;
}
ee_s32 get_seed_32(int i);
ee_u8 static_memblk[TOTAL_DATA_SIZE];
int main(void) {
    core_results r; ee_u16 seedcrc = 0; int errors = 0, known = -1; CORE_TICKS total;
    SYST_RVR = 0xFFFFFF; SYST_CVR = 0; SYST_CSR = 7; /* processor clock, interrupt, enable */
    r.seed1 = (ee_s16)get_seed_32(1); r.seed2 = (ee_s16)get_seed_32(2); r.seed3 = (ee_s16)get_seed_32(3);
    r.iterations = get_seed_32(4); r.execs = get_seed_32(5);
    if (r.execs == 0) r.execs = ALL_ALGORITHMS_MASK;
    if (r.seed1 == 0 && r.seed2 == 0 && r.seed3 == 0) { r.seed3 = 0x66; }
    r.memblock[0] = (void *)static_memblk; r.size = TOTAL_DATA_SIZE; r.err = 0;
    r.size = r.size / 3;
    for (int i = 0; i < 3; i++) r.memblock[i + 1] = (char *)r.memblock[0] + r.size * i;
    r.list = core_list_init(r.size, r.memblock[1], r.seed1);
    core_init_matrix(r.size, r.memblock[2], (ee_s32)r.seed1 | (((ee_s32)r.seed2) << 16), &r.mat);
    core_init_state(r.size, r.seed1, r.memblock[3]);
    start_time();
    iterate(&r);
    stop_time();
    total = get_time();
    seedcrc = crc16(r.seed1, seedcrc); seedcrc = crc16(r.seed2, seedcrc);
    seedcrc = crc16(r.seed3, seedcrc); seedcrc = crc16(r.size, seedcrc);
    switch (seedcrc) { case 0x8a02: known = 0; break; case 0x7b05: known = 1; break; case 0x4eaf: known = 2; break;
                       case 0xe9f5: known = 3; ee_printf("2K performance run parameters for coremark.\n"); break;
                       case 0x18f2: known = 4; break; default: errors = -1; }
    if (known >= 0) {
        if (r.crclist != list_known_crc[known]) { ee_printf("ERROR! list crc 0x%04x\n", r.crclist); errors++; }
        if (r.crcmatrix != matrix_known_crc[known]) { ee_printf("ERROR! matrix crc 0x%04x\n", r.crcmatrix); errors++; }
        if (r.crcstate != state_known_crc[known]) { ee_printf("ERROR! state crc 0x%04x\n", r.crcstate); errors++; }
    }
    errors += check_data_types();
    ee_printf("CoreMark Size    : %u\n", (unsigned)r.size);
    ee_printf("Total ticks      : %llu\n", total);
    ee_printf("Iterations       : %u\n", (unsigned)r.iterations);
    ee_printf("Compiler flags   : %s\n", COMPILER_FLAGS);
    ee_printf("seedcrc          : 0x%04x\n", seedcrc);
    ee_printf("[0]crclist       : 0x%04x\n", r.crclist);
    ee_printf("[0]crcmatrix     : 0x%04x\n", r.crcmatrix);
    ee_printf("[0]crcstate      : 0x%04x\n", r.crcstate);
    ee_printf("[0]crcfinal      : 0x%04x\n", r.crc);
    if (errors == 0) ee_printf("Correct operation validated.\n"); else ee_printf("Errors detected\n");
    /* CoreMark/MHz x1000 = iterations * 1e9 / cycles */
    ee_printf("CoreMark/MHz x1000: %llu\n", (unsigned long long)r.iterations * 1000000000ull / total);
    semi_exit(errors != 0);
    return 0;
}
