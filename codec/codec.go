// Package codec encrypts Temporal payloads with AES-256-GCM, so that
// personal data in workflow inputs, results and histories is unreadable to
// anyone holding only the Temporal database or UI. The API's client and the
// worker use the same DataConverter; staff decode through the codec endpoint.
package codec

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/gdyst/accountflows/secure"
)

// Metadata keys and the encoding name of an encrypted payload.
const (
	MetadataEncoding = converter.MetadataEncoding
	MetadataKeyID    = "encryption-key-id"
	EncodingName     = "binary/encrypted"
)

// Codec is a converter.PayloadCodec sealing each payload under the current
// data key. Payloads sealed under a previous key still decode.
type Codec struct {
	keys *secure.Keyring
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns the codec over keys.
func New(keys *secure.Keyring) *Codec { return &Codec{keys: keys} }

// DataConverter returns the SDK's default converter wrapped in the codec.
func DataConverter(keys *secure.Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(keys))
}

// Encode implements converter.PayloadCodec.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: unable to marshal payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingName),
				MetadataKeyID:    []byte(c.keys.KeyID()),
			},
			Data: c.keys.SealPayload(plain),
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec. Payloads that are not encrypted
// (such as search attributes) pass through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) != EncodingName {
			out[i] = p
			continue
		}
		plain, err := c.keys.OpenPayload(p.GetData())
		if err != nil {
			return nil, fmt.Errorf("codec: unable to decrypt payload under key %q: %w", p.GetMetadata()[MetadataKeyID], err)
		}
		decoded := &commonpb.Payload{}
		if err := proto.Unmarshal(plain, decoded); err != nil {
			return nil, fmt.Errorf("codec: unable to unmarshal payload: %w", err)
		}
		out[i] = decoded
	}
	return out, nil
}
