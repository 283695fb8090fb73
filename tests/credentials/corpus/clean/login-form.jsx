import React, { useState } from 'react';

const PASSWORD_FIELD = 'password';
const TOKEN_PARAM = 'reset_token';

export function LoginForm({ onSubmit }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  return (
    <form onSubmit={(e) => { e.preventDefault(); onSubmit({ email, password }); }}>
      <input name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      <input name={PASSWORD_FIELD} type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
      <button type="submit">Sign in</button>
    </form>
  );
}

export function resetLink(token) {
  const url = new URL('https://app.acme.example/reset');
  url.searchParams.set(TOKEN_PARAM, token);
  return url.toString();
}
