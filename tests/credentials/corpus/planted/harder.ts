// Shapes the rules are not built for (measured honestly: some are missed).
const secret = '%%bluum_secret%%';
const endpoint = "https://api.partner.example/v1/quotes?api_key=%%api_token%%";
const split = "%%half_hex%%" +
  "%%half_hex%%";
export const dbPassword = '%%passphrase%%';
