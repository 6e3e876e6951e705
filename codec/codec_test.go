package codec_test

import (
	"bytes"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/gdyst/accountflows/codec"
	"github.com/gdyst/accountflows/secure"
	"github.com/gdyst/accountflows/testenv"
)

func TestCodec_RoundTripHidesPlaintext(t *testing.T) {
	dc := codec.DataConverter(testenv.Keyring(t))
	payload, err := dc.ToPayload(map[string]string{"name": "张伟", "id_number": "440106199001021230"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(payload.Data, []byte("440106199001021230")) || bytes.Contains(payload.Data, []byte("张伟")) {
		t.Fatal("encoded payload contains personal data in clear")
	}
	if string(payload.Metadata[converter.MetadataEncoding]) != codec.EncodingName {
		t.Errorf("encoding = %q", payload.Metadata[converter.MetadataEncoding])
	}
	var back map[string]string
	if err := dc.FromPayload(payload, &back); err != nil {
		t.Fatal(err)
	}
	if back["id_number"] != "440106199001021230" {
		t.Errorf("decoded %v", back)
	}
}

func TestCodec_DecodePassesUnencrypted(t *testing.T) {
	c := codec.New(testenv.Keyring(t))
	plain := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte("json/plain")}, Data: []byte(`"x"`)}
	out, err := c.Decode([]*commonpb.Payload{plain})
	if err != nil || string(out[0].Data) != `"x"` {
		t.Fatalf("Decode = %v, %v", out, err)
	}
}

func TestCodec_DecodeFailsUnderOtherKey(t *testing.T) {
	encoded, err := codec.New(testenv.Keyring(t)).Encode([]*commonpb.Payload{{Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := secure.ParseKey(secure.NewKey())
	other, _ := secure.NewKeyring(key)
	if _, err := codec.New(other).Decode(encoded); err == nil {
		t.Fatal("decoded a payload sealed under another key")
	}
}
