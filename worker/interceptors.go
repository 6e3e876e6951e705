package worker

import "go.temporal.io/sdk/interceptor"

// interceptors are the worker interceptors New installs. A production build
// has none; a build with the chaos tag adds the crash switch of chaos.go.
var interceptors []interceptor.WorkerInterceptor
