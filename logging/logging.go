// Package logging builds the zap logger of the API and the worker and adapts
// it to the Temporal SDK's logger interface.
package logging

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New returns a zap logger at level ("debug", "info", "warn", "error") in
// format ("json" or "console"). Keys are snake_case across the service.
func New(level, format string) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("unable to parse log level %q: %w", level, err)
	}
	cfg := zap.NewProductionConfig()
	if format == "console" {
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.EncoderConfig.TimeKey = "time"
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	cfg.DisableStacktrace = true
	return cfg.Build()
}

// TemporalLogger adapts zap to go.temporal.io/sdk/log.Logger. The SDK logs
// workflow and activity ids, types and errors through it; none of those
// carry personal data because workflow IDs are built from random ids only.
type TemporalLogger struct {
	zl *zap.Logger
}

var (
	_ log.Logger     = (*TemporalLogger)(nil)
	_ log.WithLogger = (*TemporalLogger)(nil)
)

// NewTemporalLogger wraps zl; the SDK's own lines get component=temporal.
func NewTemporalLogger(zl *zap.Logger) *TemporalLogger {
	return &TemporalLogger{zl: zl.WithOptions(zap.AddCallerSkip(1)).With(zap.String("component", "temporal"))}
}

func (l *TemporalLogger) fields(keyvals []any) []zap.Field {
	fields := make([]zap.Field, 0, len(keyvals)/2+1)
	for i := 0; i < len(keyvals); i += 2 {
		key, ok := keyvals[i].(string)
		if !ok {
			key = fmt.Sprint(keyvals[i])
		}
		if i+1 >= len(keyvals) {
			fields = append(fields, zap.Any("extra", key))
			break
		}
		fields = append(fields, zap.Any(snakeCase(key), keyvals[i+1]))
	}
	return fields
}

// Debug logs at debug level.
func (l *TemporalLogger) Debug(msg string, keyvals ...any) { l.zl.Debug(msg, l.fields(keyvals)...) }

// Info logs at info level.
func (l *TemporalLogger) Info(msg string, keyvals ...any) { l.zl.Info(msg, l.fields(keyvals)...) }

// Warn logs at warn level.
func (l *TemporalLogger) Warn(msg string, keyvals ...any) { l.zl.Warn(msg, l.fields(keyvals)...) }

// Error logs at error level.
func (l *TemporalLogger) Error(msg string, keyvals ...any) { l.zl.Error(msg, l.fields(keyvals)...) }

// With returns a logger that adds keyvals to every line.
func (l *TemporalLogger) With(keyvals ...any) log.Logger {
	return &TemporalLogger{zl: l.zl.With(l.fields(keyvals)...)}
}

// snakeCase turns the SDK's CamelCase keys (WorkflowID, ActivityType) into
// the service's snake_case style (workflow_id, activity_type).
func snakeCase(key string) string {
	out := make([]byte, 0, len(key)+4)
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'A' && c <= 'Z' {
			prevLower := i > 0 && (key[i-1] >= 'a' && key[i-1] <= 'z' || key[i-1] >= '0' && key[i-1] <= '9')
			nextLower := i+1 < len(key) && key[i+1] >= 'a' && key[i+1] <= 'z' && i > 0 && key[i-1] >= 'A' && key[i-1] <= 'Z'
			if prevLower || nextLower {
				out = append(out, '_')
			}
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}
