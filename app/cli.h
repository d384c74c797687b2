/* cli.h: the verbs of `layerlab`. Each returns the process exit status:
 * 0 success, 1 failure, 2 usage error. */
#pragma once

#include <glib.h>

int ll_cli_blocks(int argc, char **argv);
int ll_cli_summary(int argc, char **argv);
int ll_cli_train(int argc, char **argv);
int ll_cli_eval(int argc, char **argv);
int ll_cli_runs(int argc, char **argv);
int ll_cli_devices(int argc, char **argv);
int ll_cli_study(int argc, char **argv);
int ll_cli_sweep(int argc, char **argv);
int ll_cli_transfer(int argc, char **argv);
int ll_cli_import(int argc, char **argv);
/* cli-report.c (builds with cairo) */
int ll_cli_report(int argc, char **argv);
int ll_cli_export(int argc, char **argv);

/* Parses options for one verb; prints usage to stderr and returns FALSE on error. */
gboolean ll_cli_parse(const char *verb, const char *params, GOptionEntry *entries, int *argc,
                      char ***argv);
void ll_cli_usage(FILE *out);
