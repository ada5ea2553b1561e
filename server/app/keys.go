package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	ev "github.com/memoryd/memoryd/gen/events"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/events"
	"github.com/memoryd/memoryd/server/store"
)

const keysUsage = `usage:
  memoryd keys create --db DSN --workspace W [--workspace W2] [--tier free|pro|enterprise] [--user U]
  memoryd keys list   --db DSN
  memoryd keys revoke --db DSN KEY_ID

memoryd keys SUBCOMMAND -h lists a subcommand's flags.`

// RunKeys runs `memoryd keys ...`. create prints only the new secret on
// stdout, so scripts can capture it; everything else goes to stderr. Help,
// when asked for, goes to stdout. A command line that does not parse is a
// *UsageError.
func RunKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &UsageError{Err: errors.New("missing subcommand"), Usage: keysUsage}
	}
	if IsHelp(args[0]) {
		fmt.Fprintln(stdout, keysUsage)
		return nil
	}
	switch args[0] {
	case "create", "list", "revoke":
	default:
		return &UsageError{Err: fmt.Errorf("unknown subcommand %q", args[0]), Usage: keysUsage}
	}
	fs := newEnvFlags("keys " + args[0])
	var db, tier, user string
	var workspaces multi
	fs.str(&db, "db", "sqlite://./data/memoryd.db", "database")
	if args[0] == "create" {
		fs.Var(&workspaces, "workspace", "workspace the key may use (repeat for several)")
		fs.StringVar(&tier, "tier", "", "rate-limit tier: free, pro or enterprise (default: unlimited)")
		fs.StringVar(&user, "user", "", "user recorded as the author of changes made with the key")
	}
	if err := fs.parse(args[1:]); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "%s\n\nflags of keys %s:\n", keysUsage, args[0])
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	} else if err != nil {
		return &UsageError{Err: err, Usage: keysUsage}
	}
	want := map[string]int{"create": 0, "list": 0, "revoke": 1}[args[0]]
	if fs.NArg() != want {
		return &UsageError{Err: fmt.Errorf("keys %s takes %d argument(s), got %d", args[0], want, fs.NArg()), Usage: keysUsage}
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		return fmt.Errorf("opening database: %w", err)
	}
	defer st.Close()
	switch args[0] {
	case "create":
		secret, k, err := auth.NewKey(ctx, st, workspaces, memoryd.Tier(tier), user)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created %s for workspaces %s\n", k.ID, strings.Join(k.Workspaces, ","))
		if _, err := fmt.Fprintln(stdout, secret); err != nil {
			return err
		}
		return keyActivity(ctx, st, k, ev.KeyCreated)
	case "list":
		return listKeys(ctx, st, stdout)
	default: // revoke
		if err := st.RevokeKey(ctx, fs.Arg(0)); err != nil {
			return fmt.Errorf("revoking %s: %w", fs.Arg(0), err)
		}
		fmt.Fprintf(stderr, "revoked %s\n", fs.Arg(0))
		return revokedActivity(ctx, st, fs.Arg(0))
	}
}

func listKeys(ctx context.Context, st memoryd.KeyStore, w io.Writer) error {
	keys, err := st.ListKeys(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWORKSPACES\tTIER\tUSER\tCREATED\tREVOKED")
	for _, k := range keys {
		tier, revoked := string(k.Tier), "-"
		if tier == "" {
			tier = "unlimited"
		}
		if k.RevokedAt != nil {
			revoked = k.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, strings.Join(k.Workspaces, ","), tier, k.User,
			k.CreatedAt.Format(time.RFC3339), revoked)
	}
	return tw.Flush()
}

// keysAndLog is what the keys commands use: the keys and the log that
// records their changes.
type keysAndLog interface {
	memoryd.KeyStore
	memoryd.EventAppender
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// keyActivity tells each workspace of k's stream about the key change
// (user.activity). The key change itself has happened either way, so a
// failure here is reported but the secret stays printed.
func keyActivity(ctx context.Context, st memoryd.EventAppender, k *memoryd.APIKey, action ev.UserActivityAction) error {
	for _, ws := range k.Workspaces {
		if err := events.AppendUserActivity(ctx, st, ws, k.User, k.ID, "", action); err != nil {
			return fmt.Errorf("recording %s in workspace %s: %w", action, ws, err)
		}
	}
	return nil
}

func revokedActivity(ctx context.Context, st keysAndLog, id string) error {
	keys, err := st.ListKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID == id {
			return keyActivity(ctx, st, k, ev.KeyRevoked)
		}
	}
	return nil
}
