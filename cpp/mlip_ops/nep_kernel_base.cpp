// Fused NEP kernels for the baseline ISA of the build (x86-64: SSE2, 16-byte vectors; 32-byte
// vectors when the whole build targets AVX2, e.g. with MLIP_OPS_NATIVE).
#define MLIP_KERNEL_NS base
#if defined(__AVX2__)
#define MLIP_KERNEL_VBYTES 32
#else
#define MLIP_KERNEL_VBYTES 16
#endif
#include "nep_kernel_impl.h"
