export const investor = {
  id: "inv_01hzx3v5k8q2w9m4t7r6y1n0pb",
  email: "alice@example.com",
  password: "correct-password",
  status: "approved",
};

export const apiKeyRecord = {
  id: "apk_01hzx3v5k8q2w9m4t7r6y1n0pc",
  name: "ci-readiness",
  token: "redacted",
  created: "2025-01-01T00:00:00Z",
};

export const checksum = {
  algorithm: "sha256",
  etag: "W/\"5d41402abc4b2a76b9719d911017c592\"",
};
