// openapi_dump: writes the OpenAPI document GET /openapi.json serves (openapi.h) to stdout,
// for the linter's ctest (tests/openapi/lint.sh). Exit status 1 when it cannot be built.
#include <cstdio>

#include "server/api.h"
#include "server/openapi.h"

int main() {
  using fastgpu::server::Api;
  auto doc = fastgpu::server::BuildOpenApiDocument(Api::Routes());
  if (!doc.ok()) {
    std::fprintf(stderr, "openapi_dump: %s\n", doc.status().ToString().c_str());
    return 1;
  }
  std::string text = boost::json::serialize(*doc);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}
