/* SPDX-License-Identifier: MIT */
/* sim.h: `ringfence fleet sim`: simulated endpoints through the real core. */
#ifndef RF_FLEET_SIM_H
#define RF_FLEET_SIM_H

int rf_fleet_sim_main(int argc, char **argv);

#endif
