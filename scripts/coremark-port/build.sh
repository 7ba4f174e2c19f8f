#!/bin/bash
# usage: build.sh SRC_DIR OUT_DIR ITER
set -e
SRC=$1; OUT=$2; IT=${3:-200}; P=$(cd $(dirname $0) && pwd)
mkdir -p $OUT
M4="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
M0="-mcpu=cortex-m0plus -mthumb"
build() { # name cpu flags board-define flash ram ramlen textmem
  local name=$1 cpu=$2 opt=$3 def=$4 fl=$5 ram=$6 rl=$7 tm=$8 et
  if [ $tm = RAM ]; then et="ADDR(.text) + SIZEOF(.text)"; else et="ADDR(.text)"; fi
  sed -e "s/@FLASH@/$fl/;s/@RAM@/$ram/;s/@RAMLEN@/$rl/;s/@TEXTMEM@/$tm/g;s/@ETEXT@/$et/" $P/link.ld.in > $OUT/$name.ld
  arm-none-eabi-gcc $cpu $opt -DBOARD_$def -DITERATIONS=$IT -DCOMPILER_FLAGS="\"$opt\"" -I$P -I$SRC \
    -ffunction-sections -nostartfiles -nostdlib -T $OUT/$name.ld -o $OUT/$name.elf \
    $P/startup.c $P/core_portme.c $SRC/core_list_join.c $SRC/core_matrix.c $SRC/core_state.c $SRC/core_util.c -lc -lgcc
}
for o in O2 O3; do
  F="-$o"
  build nucleo-$o "$M4" "$F" NUCLEO 0x08000000 0x20000000 640K FLASH
  build nrf-$o "$M4" "$F" NRF 0x00000000 0x20000000 256K FLASH
  build artemis-$o "$M4" "$F" APOLLO 0x00010000 0x10010000 320K FLASH
  build l476-$o "$M4" "$F" L476 0x08000000 0x20000000 128K FLASH
  build edge-$o "$M4" "$F" APOLLO 0x0000C000 0x10010000 320K FLASH
  build nano-$o "$M4" "$F" NRF 0x00010000 0x20000000 256K FLASH
  build k64-$o "$M4" "$F" K64 0x00000000 0x20000000 192K FLASH
  build pico-$o "$M0" "$F" PICO 0x10000100 0x20000000 264K FLASH
  build nucleo-ram-$o "$M4" "$F" NUCLEO 0x08000000 0x20000000 640K RAM
  build pico-ram-$o "$M0" "$F" PICO 0x10000100 0x20000000 264K RAM
done
