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

// requireJSONContent rejects a request whose Content-Type is set to
// anything but application/json. A request without one is let through.
func requireJSONContent(c echo.Context) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" {
		mediaType, _, err := mime.ParseMediaType(ct)
		if err != nil || mediaType != echo.MIMEApplicationJSON {
			return Fail(CodeUnsupportedMediaType)
		}
	}
	return nil
}

// requireEmptyBody is middleware for a POST whose parameters are all in
// its path: it rejects any body but an empty one or an empty JSON object.
func requireEmptyBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := bindEmptyObject(c); err != nil {
			return err
		}
		return next(c)
	}
}

// bindJSON decodes exactly one JSON object into dst. Unknown fields, trailing
// data, wrong types and a non-JSON content type are client errors.
func bindJSON(c echo.Context, dst any) error {
	if err := requireJSONContent(c); err != nil {
		return err
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
