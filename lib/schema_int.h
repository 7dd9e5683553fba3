/* SPDX-License-Identifier: MIT */
/* Internals of the schema module shared with the generated table. */
#ifndef RF_SCHEMA_INT_H
#define RF_SCHEMA_INT_H
#include "ringfence/schema.h"

/* Indexed by class id; entries with .name == NULL are unused ids. Generated. */
extern const struct rf_class_desc rf_schema_classes_[RF_CLASS_COUNT];

#endif
