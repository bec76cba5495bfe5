#include "common/version.h"

namespace fastgpu {
const char* Version() { return FASTGPU_VERSION_STRING; }
}  // namespace fastgpu
