package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// readBody returns the request body, enforcing the size limit and UTF-8.
func readBody(c echo.Context) ([]byte, error) {
	if cached, ok := c.Get("raw_body").([]byte); ok {
		return cached, nil
	}
	body, err := io.ReadAll(c.Request().Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, Fail(CodeBodyTooLarge)
	}
	if err != nil {
		return nil, FailWith(CodeInvalidRequest, err)
	}
	if !utf8.Valid(body) {
		return nil, Fail(CodeInvalidJSON)
	}
	c.Set("raw_body", body)
	return body, nil
}

// bindJSON decodes exactly one JSON object into dst. Unknown fields, trailing
// data, wrong types and a non-JSON content type are client errors.
func bindJSON(c echo.Context, dst any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" {
		mediaType, _, err := mime.ParseMediaType(ct)
		if err != nil || mediaType != echo.MIMEApplicationJSON {
			return Fail(CodeUnsupportedMediaType)
		}
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var syntaxErr *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			return FailWith(CodeInvalidRequest, err)
		case errors.As(err, &syntaxErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return FailWith(CodeInvalidJSON, err)
		default:
			if bytes.Contains([]byte(err.Error()), []byte("unknown field")) {
				return FailWith(CodeUnknownField, err)
			}
			return FailWith(CodeInvalidJSON, err)
		}
	}
	if dec.More() {
		return Fail(CodeInvalidJSON)
	}
	var rest json.RawMessage
	if err := dec.Decode(&rest); !errors.Is(err, io.EOF) {
		return Fail(CodeInvalidJSON)
	}
	return nil
}
