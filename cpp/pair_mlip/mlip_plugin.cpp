/* Registers pair_style mlip with LAMMPS when the shared library is loaded.
   Deliberately free of torch headers so it compiles in a second or two. */

#include "lammpsplugin.h"
#include "pair_mlip.h"

#ifndef MLIP_LAMMPS_VERSION
#error "MLIP_LAMMPS_VERSION (e.g. \"22 Jul 2025\") must be defined by the build system"
#endif
#ifndef MLIP_PACKAGE_VERSION
#define MLIP_PACKAGE_VERSION "dev"
#endif

using namespace LAMMPS_NS;

static Pair *mlip_creator(LAMMPS *lmp)
{
  return new PairMLIP(lmp);
}

extern "C" __attribute__((visibility("default"))) void lammpsplugin_init(void *lmp, void *handle,
                                                                       void *regfunc)
{
  lammpsplugin_t plugin;
  auto register_plugin = (lammpsplugin_regfunc) regfunc;

  // LAMMPS keeps a copy of this struct, so the strings must be static
  plugin.version = MLIP_LAMMPS_VERSION;
  plugin.style = "pair";
  plugin.name = "mlip";
  plugin.info = "pair_style mlip: TorchScript machine-learning potentials (mlip-lammps " MLIP_PACKAGE_VERSION ")";
  plugin.author = "mlip-lammps developers";
  plugin.creator.v1 = (lammpsplugin_factory1 *) &mlip_creator;
  plugin.handle = handle;
  (*register_plugin)(&plugin, lmp);
}
