/* harness_internal.h: what the harness's own files (check.c, helpers.c, gateway.c, request.c,
 * token.c, flow.c) share, and the test programs do not see. */
#ifndef TEST_HARNESS_INTERNAL_H
#define TEST_HARNESS_INTERNAL_H

#include "harness.h"

extern const char *h_gateway_bin; /* argv[1], set by h_init */
extern int h_verbose;             /* HTTP_TEST_VERBOSE is set: sections and gateway pids are printed */

/* The part of the program running now (h_section), "" before the first. */
const char *h_section_name(void);

/* Removes the folder h_make_cert made, if any (h_finish). */
void h_remove_cert(void);

#endif
