#include "harness.h"
int main(int argc, char **argv) { h_init(argc, argv, "test_protocols"); return h_finish(); }
