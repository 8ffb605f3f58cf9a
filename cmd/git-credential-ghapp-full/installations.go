package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
)

const installationsUsage = `usage: git-credential-ghapp [OPTIONS] installations [--json]

Lists the app's installations (every page of GET /app/installations): the account, its type
(Organization or User), the installation id (for --installation-id) and which repositories it
covers ("all", or "selected").

  --json    print a JSON array instead, one object per installation: id, account, account_type,
            repository_selection, permissions

Examples:
  git-credential-ghapp --app-id 123 installations
  git-credential-ghapp installations --app-id 123 --hostname ghe.example.com --json
` + globalsNote

// installationJSON is one installation as installations --json prints it.
type installationJSON struct {
	ID                  int64             `json:"id"`
	Account             string            `json:"account"`
	AccountType         string            `json:"account_type"`
	RepositorySelection string            `json:"repository_selection"`
	Permissions         map[string]string `json:"permissions"`
}

func runInstallations(ctx context.Context, e *env, o *options, args []string) int {
	f := newFlags("installations", installationsUsage, true)
	asJSON := f.fs.Bool("json", false, "")
	operands, o, code, ok := f.parse(e, o, args)
	if !ok {
		return code
	}
	if tooManyOperands(e, "installations", operands, 0) {
		return exitUsage
	}
	o, err := withConfiguredApp(e, o)
	if err != nil {
		e.errorf("installations: %v", err)
		return exitUsage
	}
	if o.AppID == "" {
		e.errorf("installations: %v", errNoAppID)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, requestDeadline)
	defer cancel()
	client := newClient(e, o)
	client.OnRetry = retryNotice(e)
	insts, err := client.Installations(ctx)
	if err != nil {
		e.errorf("%v", err)
		return exitFail
	}
	if *asJSON {
		list := make([]installationJSON, 0, len(insts))
		for _, in := range insts {
			list = append(list, installationOutput(in))
		}
		out, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			e.errorf("installations: %v", err)
			return exitFail
		}
		fmt.Fprintf(e.stdout, "%s\n", out)
		return exitOK
	}
	if len(insts) == 0 {
		fmt.Fprintln(e.stdout, "the app has no installations: install it on an account from the app's page on GitHub")
		return exitOK
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ACCOUNT\tTYPE\tID\tREPOSITORIES")
	for _, in := range insts {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", in.Account.Login, in.Account.Type, in.ID, in.RepositorySelection)
	}
	w.Flush()
	return exitOK
}

func installationOutput(in appauth.Installation) installationJSON {
	out := installationJSON{ID: in.ID, Account: in.Account.Login, AccountType: in.Account.Type,
		RepositorySelection: in.RepositorySelection, Permissions: in.Permissions}
	if out.Permissions == nil {
		out.Permissions = map[string]string{}
	}
	return out
}
