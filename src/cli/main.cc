// The `cairn` executable; everything lives in the cairn_cli library.
#include "cli/app.h"

int main(int argc, char** argv) { return cairn::cli::Main(argc, argv); }
