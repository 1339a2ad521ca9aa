#!/bin/sh
exec /opt/site/serve
