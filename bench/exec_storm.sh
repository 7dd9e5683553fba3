#!/bin/bash
# The exec storm of the foundation issue: bench/storms.sh exec [N] [ROUNDS].
exec bash "$(dirname "$0")/storms.sh" exec "$@"
