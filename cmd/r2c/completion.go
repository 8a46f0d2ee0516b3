package main

import (
	"github.com/spf13/cobra"
)

// completionCommand prints a shell completion script. It replaces cobra's
// default one so that its help has examples like every other command.
func completionCommand() *cobra.Command {
	var noDesc bool
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "print a shell completion script",
		Long: "Prints the completion script for the shell: commands, flags and their descriptions complete on Tab.\n" +
			"Load it once per session, or install it where the shell looks for completions.",
		Example: "  source <(r2c completion bash)\n" +
			"  r2c completion bash > /etc/bash_completion.d/r2c\n" +
			"  r2c completion zsh > \"${fpath[1]}/_r2c\"\n" +
			"  r2c completion fish > ~/.config/fish/completions/r2c.fish\n" +
			"  r2c completion powershell | Out-String | Invoke-Expression",
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(c *cobra.Command, args []string) error {
			if err := cobra.ExactArgs(1)(c, args); err != nil {
				return usagef("completion: name one shell: bash, zsh, fish or powershell")
			}
			if err := cobra.OnlyValidArgs(c, args); err != nil {
				return usagef("completion: unknown shell %q: one of bash, zsh, fish, powershell", args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			root, out := c.Root(), c.OutOrStdout()
			var err error
			switch args[0] {
			case "bash":
				err = root.GenBashCompletionV2(out, !noDesc)
			case "zsh":
				if noDesc {
					err = root.GenZshCompletionNoDesc(out)
				} else {
					err = root.GenZshCompletion(out)
				}
			case "fish":
				err = root.GenFishCompletion(out, !noDesc)
			case "powershell":
				if noDesc {
					err = root.GenPowerShellCompletion(out)
				} else {
					err = root.GenPowerShellCompletionWithDesc(out)
				}
			}
			if err != nil {
				return envf("completion: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noDesc, "no-descriptions", false, "complete names only, without their descriptions")
	return cmd
}
