// SPDX-License-Identifier: MIT
/* sim.c: placeholder until the simulator lands. */
#include "common/log.h"
#include "fleet/sim.h"

int rf_fleet_sim_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	rf_err("fleet sim: not built yet");
	return 1;
}
