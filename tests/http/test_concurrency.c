#include "harness.h"
int main(int argc, char **argv) { h_init(argc, argv, "test_concurrency"); return h_finish(); }
