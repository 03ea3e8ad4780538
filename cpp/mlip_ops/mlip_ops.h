/* Public C entry point of libmlip_ops.so besides the torch operators it registers
   (TORCH_LIBRARY(mlip, ...) in nep_ops.cpp). The LAMMPS plugin calls it, which also makes the
   plugin depend on the library explicitly, so the operators are registered whenever the plugin
   is loaded. */

#ifndef MLIP_OPS_H
#define MLIP_OPS_H

#ifdef __cplusplus
extern "C" {
#endif

// "mlip_ops 2; kernels avx2+fma; torch threads N" (static storage, valid until next call)
__attribute__((visibility("default"))) const char *mlip_ops_info(void);

#ifdef __cplusplus
}
#endif

#endif
