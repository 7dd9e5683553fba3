/* SPDX-License-Identifier: MIT */
/* hex.h: the value of one hexadecimal digit, for the parsers that decode hex text. */
#ifndef RF_HEX_H
#define RF_HEX_H

/* 0..15, or -1 when C is not a hex digit. */
static inline int rf_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
