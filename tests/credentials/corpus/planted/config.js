module.exports = {
  bluum: {
    baseUrl: 'https://sandbox.api.bluumfinance.com/v1',
    apiKey: '%%bluum_key%%',
    apiSecret: '%%bluum_secret%%',
    webhookSecret: '%%whsec%%',
  },
  stripe: { secretKey: '%%stripe%%' },
  github: { token: '%%github%%' },
  session: { cookieName: 'acme.sid' },
};
