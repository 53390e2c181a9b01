#!/bin/sh
# The API's test: its config must name a port.
grep -q '^port=' config.ini && echo "api: config ok"
