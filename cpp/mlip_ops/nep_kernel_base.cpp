// Fused NEP kernels for the baseline ISA of the build (x86-64: SSE2, 16-byte vectors).
#define MLIP_KERNEL_NS base
#define MLIP_KERNEL_VBYTES 16
#include "nep_kernel_impl.h"
