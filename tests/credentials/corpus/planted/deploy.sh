#!/bin/sh
set -eu
export BLUUM_API_KEY=%%bluum_key%%
export BLUUM_API_SECRET=%%bluum_secret%%
export AWS_ACCESS_KEY_ID=%%aws_key%%
curl -fsS -H "Authorization: %%basic%%" https://sandbox.api.bluumfinance.com/v1/accounts
