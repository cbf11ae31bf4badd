#include "harness.h"
int main(int argc, char **argv) { h_init(argc, argv, "test_db_failures"); return h_finish(); }
