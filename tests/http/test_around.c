#include "harness.h"
int main(int argc, char **argv) { h_init(argc, argv, "test_around"); return h_finish(); }
