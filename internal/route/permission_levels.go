package route

import "sync"

// permissionLevels is every permission an installation access token can ask for, with the
// levels GitHub accepts for it, transcribed whole (by a script, not by hand) from GitHub's REST
// description: the `permissions` body parameter of "Create an installation access token for an
// app" (POST /app/installations/{installation_id}/access_tokens), i.e. the `app-permissions`
// schema of github/rest-api-description, which github/docs renders as
// src/rest/data/fpt-2022-11-28/apps.json. Source used: the api.github.com description in the npm
// package @octokit/openapi 23.0.2, plus the names that only its ghec and ghes-3.17/3.18/3.19
// descriptions have (enterprise_administration, enterprise_custom_properties,
// enterprise_organization_installations, enterprise_organization_installation_repositories), so
// that a name valid on any GitHub is known. To update it, read
// components.schemas["app-permissions"].properties[NAME].enum from each description again.
//
// It is built on first use (a --permissions value to check), not at start-up: the front that git
// starts for every request would otherwise build this map on every cached get.
var permissionLevels = sync.OnceValue(func() map[string][]string {
	return map[string][]string{
		"actions":                             {"read", "write"},
		"administration":                      {"read", "write"},
		"artifact_metadata":                   {"read", "write"},
		"attestations":                        {"read", "write"},
		"checks":                              {"read", "write"},
		"code_quality":                        {"read", "write"},
		"codespaces":                          {"read", "write"},
		"contents":                            {"read", "write"},
		"custom_properties_for_organizations": {"read", "write"},
		"dependabot_secrets":                  {"read", "write"},
		"deployments":                         {"read", "write"},
		"discussions":                         {"read", "write"},
		"email_addresses":                     {"read", "write"},
		"enterprise_administration":           {"read", "write"},
		"enterprise_custom_properties":        {"read", "write"},
		"enterprise_custom_properties_for_organizations":    {"read", "write", "admin"},
		"enterprise_organization_installation_repositories": {"read", "write"},
		"enterprise_organization_installations":             {"read", "write"},
		"environments":                                      {"read", "write"},
		"followers":                                         {"read", "write"},
		"git_ssh_keys":                                      {"read", "write"},
		"gpg_keys":                                          {"read", "write"},
		"interaction_limits":                                {"read", "write"},
		"issues":                                            {"read", "write"},
		"members":                                           {"read", "write"},
		"merge_queues":                                      {"read", "write"},
		"metadata":                                          {"read", "write"},
		"organization_administration":                       {"read", "write"},
		"organization_announcement_banners":                 {"read", "write"},
		"organization_copilot_agent_settings":               {"read", "write"},
		"organization_copilot_seat_management":              {"read", "write"},
		"organization_custom_org_roles":                     {"read", "write"},
		"organization_custom_properties":                    {"read", "write", "admin"},
		"organization_custom_roles":                         {"read", "write"},
		"organization_events":                               {"read"},
		"organization_hooks":                                {"read", "write"},
		"organization_packages":                             {"read", "write"},
		"organization_personal_access_token_requests":       {"read", "write"},
		"organization_personal_access_tokens":               {"read", "write"},
		"organization_plan":                                 {"read"},
		"organization_projects":                             {"read", "write", "admin"},
		"organization_secrets":                              {"read", "write"},
		"organization_self_hosted_runners":                  {"read", "write"},
		"organization_user_blocking":                        {"read", "write"},
		"packages":                                          {"read", "write"},
		"pages":                                             {"read", "write"},
		"profile":                                           {"write"},
		"pull_requests":                                     {"read", "write"},
		"repository_custom_properties":                      {"read", "write"},
		"repository_hooks":                                  {"read", "write"},
		"repository_projects":                               {"read", "write", "admin"},
		"secret_scanning_alerts":                            {"read", "write"},
		"secrets":                                           {"read", "write"},
		"security_events":                                   {"read", "write"},
		"single_file":                                       {"read", "write"},
		"starring":                                          {"read", "write"},
		"statuses":                                          {"read", "write"},
		"vulnerability_alerts":                              {"read", "write"},
		"workflows":                                         {"write"},
	}
})
