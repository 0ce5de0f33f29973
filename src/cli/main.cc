// Placeholder entry point; replaced by the CLI (src/cli/app.cc) as it lands.
#include <cstdio>
int main() {
  std::puts("cairn 0.1.0");
  return 0;
}
