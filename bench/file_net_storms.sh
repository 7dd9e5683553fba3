#!/bin/bash
# The open and connect storms of the sensor-coverage issue.
bash "$(dirname "$0")/storms.sh" open "$@"
echo
bash "$(dirname "$0")/storms.sh" connect "$@"
