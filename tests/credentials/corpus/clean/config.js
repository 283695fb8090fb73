'use strict';

const path = require('path');

module.exports = {
  env: process.env.NODE_ENV || 'development',
  port: Number(process.env.PORT || 3000),
  bluum: {
    baseUrl: process.env.BLUUM_BASE_URL || 'https://sandbox.api.bluumfinance.com/v1',
    apiKey: process.env.BLUUM_API_KEY,
    apiSecret: process.env.BLUUM_API_SECRET,
    webhookSecret: process.env.BLUUM_WEBHOOK_SECRET,
    timeoutMs: 5000,
  },
  session: {
    secretName: 'acme-session',
    cookieName: 'acme.sid',
    tokenHeader: 'x-session-token',
  },
  logging: {
    level: process.env.LOG_LEVEL || 'info',
    redact: ['password', 'apiSecret', 'authorization', 'token'],
  },
  uploads: path.join(__dirname, 'uploads'),
};
