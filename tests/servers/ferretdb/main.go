// Command ferretdb-server runs an embedded FerretDB (v1, SQLite backend) on
// 127.0.0.1 for libodm's integration tests, until SIGINT or SIGTERM.
//
// Usage: ferretdb-server PORT DATADIR
//
// It embeds the public github.com/FerretDB/FerretDB/ferretdb package instead
// of building cmd/ferretdb, whose build/version checks panic at start when it
// is built with a plain `go install` (no generated version files).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-server:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: ferretdb-server PORT DATADIR")
		os.Exit(2)
	}

	port, err := strconv.Atoi(os.Args[1])
	if err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("invalid port %q", os.Args[1])
	}

	dir, err := filepath.Abs(os.Args[2])
	if err != nil {
		return err
	}
	if err = os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	level := slog.LevelInfo
	if os.Getenv("FERRETDB_DEBUG") != "" {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// Telemetry is off: the embeddable package never starts a telemetry
	// reporter, and ferretdb.New disables and locks telemetry in its
	// (in-memory) state provider.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{
			TCP: "127.0.0.1:" + strconv.Itoa(port),
		},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()

	// MongoDBURI is only safe once Run has set up the listener; it blocks until then.
	logger.Info("ferretdb-server listening", slog.String("uri", f.MongoDBURI()), slog.String("data", dir))

	<-done
	logger.Info("ferretdb-server stopped")
	return nil
}
