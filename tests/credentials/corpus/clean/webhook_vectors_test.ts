// Published Standard Webhooks test vectors: signatures and ids are public test data, not secrets.
import { verify } from "../src/webhooks";

const vectors = [
  {
    id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    timestamp: 1614265330,
    payload: '{"test": 2432232314}',
    signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  },
  {
    id: "msg_loFOjxBNrRLzqYUf",
    timestamp: 1674087231,
    payload: '{"type": "deposit.completed"}',
    signature: "v1,rAvfW3dJ/X/qxhsaXPOyyCGmRKsaKWcsNccKXlIktD0=",
  },
];

describe("webhook signatures", () => {
  it.each(vectors)("verifies $id", (vector) => {
    expect(verify(vector)).toBe(true);
  });
});
