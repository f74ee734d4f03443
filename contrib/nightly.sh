#!/bin/sh
# The night on the host, as its service account (README "Loading the ledger"): load the
# ERP's extract, back up, refresh the queue, then the dunning letters of the day.
# Adjust the paths; every step stops the night on failure (set -e).
set -eu
EXTRACT=${EXTRACT:-/srv/erp/extract}
BACKUPS=${BACKUPS:-/srv/backups}
dunning import customers "$EXTRACT/customers.csv"
dunning import contacts "$EXTRACT/contacts.csv"
dunning import invoices "$EXTRACT/open_items.csv" --snapshot
dunning import payments "$EXTRACT/receipts.csv"
dunning backup "$BACKUPS/"
dunning queue refresh
dunning letters run
