package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

const emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
const requestID = "req_01hzx3v5k8q2w9m4t7r6y1n0pd"
const investorUUID = "3f2b8c1e-9d4a-4f6b-8e2c-1a7d5b9c0e4f"

func TestDigestOfNothing(t *testing.T) {
	sum := sha256.Sum256(nil)
	if hex.EncodeToString(sum[:]) != emptyDigest {
		t.Fatalf("digest of nothing is %x", sum)
	}
}
