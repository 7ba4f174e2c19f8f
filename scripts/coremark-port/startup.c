/* mcubench CoreMark port (own code): vector table, reset handler, per-chip flash setup. */
#include <stdint.h>
extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss, _sitext, _stext, _etext;
int main(void);
void SysTick_Handler(void);
void semi_exit(int);
__attribute__((section(".boot"), noreturn)) void Reset_Handler(void);
__attribute__((section(".boot"))) void Default_Handler(void) { for (;;) {} }
__attribute__((section(".vectors"), used)) const void *vectors[16] = {
    &_estack, Reset_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler, SysTick_Handler };
__attribute__((section(".boot"), noreturn)) void Reset_Handler(void) {
#if defined(BOARD_NUCLEO)
    *(volatile uint32_t *)0x40022000 = 0x00000705; /* FLASH_ACR: 5 WS, PRFTEN, ICEN, DCEN */
#elif defined(BOARD_L476)
    *(volatile uint32_t *)0x40022000 = 0x00000704; /* FLASH_ACR: 4 WS (80 MHz), PRFTEN, ICEN, DCEN */
#elif defined(BOARD_NRF)
    *(volatile uint32_t *)0x4001E540 = 1;          /* NVMC ICACHECNF.CACHEEN */
#elif defined(BOARD_APOLLO)
    *(volatile uint32_t *)0x40018000 = 0x351;       /* CACHECFG: ENABLE, CONFIG=5 (2-way), ICACHE, DCACHE */
#elif defined(BOARD_K64)
    /* WDOG unlock and disable (16-bit writes); the FMC's buffers and cache are on from reset.
       No flash configuration field at 0x400: this image is for the virtual board only. */
    *(volatile uint16_t *)0x4005200E = 0xC520;
    *(volatile uint16_t *)0x4005200E = 0xD928;
    *(volatile uint16_t *)0x40052000 = 0x01D2;
#endif
    volatile uint32_t *s, *d;
    for (s = &_sitext, d = &_stext; d < &_etext;) *d++ = *s++;
    for (s = &_sidata, d = &_sdata; d < &_edata;) *d++ = *s++;
    for (d = &_sbss; d < &_ebss;) *d++ = 0;
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88 |= 0xF << 20;
#endif
    main();
    for (;;) {}
}
