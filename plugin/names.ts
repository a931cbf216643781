// How we name ourselves in usage text: kubectl execs us as kubectl-liqo, always as a plugin.
export const SCRIPT_NAME_FOR_HELP = 'kubectl liqo';
