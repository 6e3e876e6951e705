# The image of bin/yst: one static binary on a distroless base, running as
# the unprivileged user nonroot (uid 65532). The sample enterprise registry is
# embedded in the binary, so nothing else is copied. docker-compose.yml builds
# it; by itself: docker build -t yst . && docker run yst config

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/yst ./cmd/yst

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/yst /usr/local/bin/yst
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/yst"]
CMD ["api"]
