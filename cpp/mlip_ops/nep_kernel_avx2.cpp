// Fused NEP kernels compiled with -mavx2 -mfma (see CMakeLists.txt), 32-byte vectors;
// nep_ops.cpp calls them only on CPUs that report both features.
#define MLIP_KERNEL_NS avx2
#define MLIP_KERNEL_VBYTES 32
#include "nep_kernel_impl.h"
