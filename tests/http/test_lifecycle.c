#include "harness.h"
int main(int argc, char **argv) { h_init(argc, argv, "test_lifecycle"); return h_finish(); }
