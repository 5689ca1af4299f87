/*
 * digits.h - the embedded UCI handwritten digits data (see digits_data.c
 * for its origin and licence), used by `lupi demo`.
 */
#ifndef LUPI_TOOL_DIGITS_H
#define LUPI_TOOL_DIGITS_H

#include <stdint.h>

#define LUPI_DIGITS_N 1797
#define LUPI_DIGITS_SIDE 8
#define LUPI_DIGITS_D 64
#define LUPI_DIGITS_MAX 16

extern const uint8_t lupi_digits_pixels[LUPI_DIGITS_N * LUPI_DIGITS_D];
extern const uint8_t lupi_digits_labels[LUPI_DIGITS_N];

#endif
