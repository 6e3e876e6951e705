package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// OpenAPIDocument is the OpenAPI 3 description of the routes; a test keeps
// it in step with the Echo routes.
//
//go:embed openapi.yaml
var OpenAPIDocument []byte

func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", OpenAPIDocument)
}
