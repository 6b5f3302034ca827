"""The mapping table: every old setting, and what it becomes here.

This module is data. Each :class:`Rule` names one or more old settings (``Class.trait``
of notebook < 7, jupyter_server 2, jupyter_client or Kernel Gateway) and either the
option of this project they become (``target``) or, when ``target`` is ``None``, why
they are dropped. ``convert`` names a value converter of :mod:`.convert` for values
that change shape on the way; ``also`` lists further options such a converter writes.
The documentation's migration table is generated from these rules (see :mod:`.table`),
so the table and the tool cannot disagree.

Sources of one rule are listed oldest first: when several of them are set at one
level, the last one listed wins, as in jupyter_server (``IdentityProvider.token``
beats ``ServerApp.token``, which beats ``NotebookApp.token``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CLASS_ALIASES",
    "ENV_VARS",
    "EXTENSIONS",
    "GATEWAY_DEFAULTS",
    "KEPT_CLASSES",
    "KEPT_REASON",
    "RULES",
    "TARGET_PACKAGES",
    "Rule",
]


@dataclass(frozen=True)
class Rule:
    """How a group of old settings moves over."""

    group: str
    sources: tuple[str, ...]
    target: str | None = None
    reason: str = ""
    convert: str = ""
    also: tuple[str, ...] = ()  # further options the converter may write, besides ``target``


APPS = ("NotebookApp", "ServerApp")
GATEWAY = "KernelGatewayApp"


def apps(*names: str) -> tuple[str, ...]:
    """Expand each bare option name to ``NotebookApp.name`` and ``ServerApp.name``; keep ``Class.name`` as is."""
    expanded: list[str] = []
    for name in names:
        expanded += [name] if "." in name else [f"{app}.{name}" for app in APPS]
    return tuple(expanded)


# What each target class belongs to: the distribution that must be installed for it to
# take effect ("" = the core itself).
TARGET_PACKAGES: dict[str, str] = {
    "CoreServerApp": "",
    "Authenticator": "",
    "KernelService": "",
    "SessionManager": "",
    "ContentsManager": "jupyter-core-server-contents",
    "FileCheckpoints": "jupyter-core-server-contents",
    "TerminalManager": "jupyter-core-server-terminals",
    "NbconvertService": "jupyter-core-server-nbconvert",
}

# Old class names that are configured exactly like another one.
CLASS_ALIASES: dict[str, str] = {
    "AsyncMappingKernelManager": "MappingKernelManager",
    "AsyncMultiKernelManager": "MultiKernelManager",
    "FileContentsManager": "ContentsManager",
    "AsyncFileContentsManager": "ContentsManager",
    "LargeFileManager": "ContentsManager",
    "AsyncLargeFileManager": "ContentsManager",
    "FileManagerMixin": "ContentsManager",
    "AsyncContentsManager": "ContentsManager",
    "AsyncFileCheckpoints": "FileCheckpoints",
    "ZMQChannelsWebsocketConnection": "BaseKernelWebsocketConnection",
}

# Classes of jupyter_client that this server creates with the server's configuration:
# their settings are kept (old class -> the class that reads them here).
KEPT_CLASSES: dict[str, str] = {
    "KernelManager": "KernelManager",
    "AsyncKernelManager": "AsyncKernelManager",
    "IOLoopKernelManager": "KernelManager",
    "AsyncIOLoopKernelManager": "AsyncIOLoopKernelManager",
    "KernelRestarter": "KernelRestarter",
    "IOLoopKernelRestarter": "KernelRestarter",
    "AsyncIOLoopKernelRestarter": "AsyncIOLoopKernelRestarter",
    "KernelSpecManager": "KernelSpecManager",
    "Application": "Application",
    "JupyterApp": "JupyterApp",
}
KEPT_REASON = "read unchanged (by jupyter_client, or by the application base class)"

# Kernel Gateway reads these environment variables as the defaults of its options.
# name -> (the option it sets, how the string is parsed: str, int, bool, lowerbool, list)
ENV_VARS: dict[str, tuple[str, str]] = {
    "KG_IP": (f"{GATEWAY}.ip", "str"),
    "KG_PORT": (f"{GATEWAY}.port", "int"),
    "KG_PORT_RETRIES": (f"{GATEWAY}.port_retries", "int"),
    "KG_BASE_URL": (f"{GATEWAY}.base_url", "str"),
    "KG_AUTH_TOKEN": (f"{GATEWAY}.auth_token", "str"),
    "KG_ALLOW_ORIGIN": (f"{GATEWAY}.allow_origin", "str"),
    "KG_ALLOW_CREDENTIALS": (f"{GATEWAY}.allow_credentials", "str"),
    "KG_ALLOW_HEADERS": (f"{GATEWAY}.allow_headers", "str"),
    "KG_ALLOW_METHODS": (f"{GATEWAY}.allow_methods", "str"),
    "KG_EXPOSE_HEADERS": (f"{GATEWAY}.expose_headers", "str"),
    "KG_MAX_AGE": (f"{GATEWAY}.max_age", "str"),
    "KG_TRUST_XHEADERS": (f"{GATEWAY}.trust_xheaders", "lowerbool"),
    "KG_CERTFILE": (f"{GATEWAY}.certfile", "str"),
    "KG_KEYFILE": (f"{GATEWAY}.keyfile", "str"),
    "KG_CLIENT_CA": (f"{GATEWAY}.client_ca", "str"),
    "KG_SSL_VERSION": (f"{GATEWAY}.ssl_version", "int"),
    "KG_MAX_KERNELS": (f"{GATEWAY}.max_kernels", "int"),
    "KG_PRESPAWN_COUNT": (f"{GATEWAY}.prespawn_count", "int"),
    "KG_SEED_URI": (f"{GATEWAY}.seed_uri", "str"),
    "KG_DEFAULT_KERNEL_NAME": (f"{GATEWAY}.default_kernel_name", "str"),
    "KG_FORCE_KERNEL_NAME": (f"{GATEWAY}.force_kernel_name", "str"),
    "KG_ENV_PROCESS_WHITELIST": (f"{GATEWAY}.env_process_whitelist", "list"),
    "KG_WS_PING_INTERVAL_SECS": (f"{GATEWAY}.ws_ping_interval", "int"),
    "KG_API": (f"{GATEWAY}.api", "str"),
    "KG_LIST_KERNELS": ("JupyterWebsocketPersonality.list_kernels", "bool"),
    "KG_ENV_WHITELIST": ("JupyterWebsocketPersonality.env_whitelist", "list"),
    "KG_ALLOWED_ENVS": (f"{GATEWAY}.allowed_envs", "list"),
    "KG_CELL_PARSER": ("NotebookHTTPPersonality.cell_parser", "str"),
    "KG_ALLOW_NOTEBOOK_DOWNLOAD": ("NotebookHTTPPersonality.allow_notebook_download", "bool"),
    "KG_STATIC_PATH": ("NotebookHTTPPersonality.static_path", "str"),
}

# Server extension modules (nbserver_extensions / jpserver_extensions) whose job a
# plugin of this project does: module -> plugin name. Any other module is looked up
# as a plugin of the same name.
EXTENSIONS: dict[str, str] = {
    "jupyter_server_terminals": "terminals",
    "terminado": "terminals",
    "jupyterlab": "frontend",
    "notebook": "frontend",
    "nbclassic": "frontend",
    "notebook_shim": "frontend",
    "jupyterlab_server": "frontend",
    "jupyterhub.singleuser": "hub",
    "jupyterhub.singleuser.extension": "hub",
}

# Where Kernel Gateway's default differs from this server's: written out when migrating a
# Kernel Gateway configuration that leaves the option unset. (new option, value, old option)
GATEWAY_DEFAULTS: tuple[tuple[str, object, str], ...] = (
    ("KernelService.list_kernels", False, "JupyterWebsocketPersonality.list_kernels"),
)

_FRONTEND = "frontends' pages and assets are served by a frontend plugin, not by the server"
_CLASS_TRAIT = "implementations are chosen by installing plugins, not by class names"
_BROWSER = "the server never opens a browser; it prints its URL"
_NOTEBOOK_HTTP = "Kernel Gateway's notebook-http mode (notebooks as REST services) is not provided"

RULES: tuple[Rule, ...] = (
    # -- listening --------------------------------------------------------------------------
    Rule("Network", apps("ip", f"{GATEWAY}.ip"), "CoreServerApp.ip"),
    Rule("Network", apps("port", f"{GATEWAY}.port"), "CoreServerApp.port"),
    Rule("Network", apps("port_retries", f"{GATEWAY}.port_retries"), "CoreServerApp.port_retries"),
    Rule(
        "Network", ("NotebookApp.base_project_url", *apps("base_url", f"{GATEWAY}.base_url")), "CoreServerApp.base_url"
    ),
    Rule("Network", apps("sock"), "CoreServerApp.sock"),
    Rule("Network", apps("sock_mode"), "CoreServerApp.sock_mode"),
    Rule("Network", apps("certfile", f"{GATEWAY}.certfile"), "CoreServerApp.certfile"),
    Rule("Network", apps("keyfile", f"{GATEWAY}.keyfile"), "CoreServerApp.keyfile"),
    Rule("Network", apps("client_ca", f"{GATEWAY}.client_ca"), "CoreServerApp.client_ca"),
    Rule("Network", apps("max_body_size"), "CoreServerApp.max_body_size"),
    Rule("Network", apps("ssl_options"), None, "TLS is set with certfile, keyfile and client_ca only"),
    Rule("Network", (f"{GATEWAY}.ssl_version",), None, "TLS versions and ciphers follow Python's secure defaults"),
    Rule("Network", apps("trust_xheaders", f"{GATEWAY}.trust_xheaders"), None, "X-Forwarded-* headers are not read"),
    Rule("Network", apps("max_buffer_size"), None, "request bodies are streamed; max_body_size bounds them"),
    Rule("Network", apps("min_open_files_limit"), None, "the open-files limit is left to the operating system"),
    Rule("Network", apps("websocket_url"), None, "websockets are served at the same address as the API"),
    Rule("Network", apps("websocket_compression_options"), None, "websocket compression is not offered"),
    Rule(
        "Network",
        ("ServerApp.websocket_ping_timeout",),
        None,
        "the wait for a pong follows KernelService.websocket_ping_interval",
    ),
    # -- files and directories ------------------------------------------------------------------
    Rule(
        "Directories",
        ("NotebookApp.notebook_dir", "ServerApp.notebook_dir", "ServerApp.root_dir"),
        "CoreServerApp.root_dir",
    ),
    Rule(
        "Directories",
        apps("preferred_dir", "ContentsManager.preferred_dir"),
        None,
        "the starting folder of a frontend is the frontend's setting",
    ),
    Rule("Directories", apps("file_to_run"), None, "the server opens no documents"),
    Rule("Directories", apps("file_url_prefix"), None, _FRONTEND),
    # -- browsers and pages -----------------------------------------------------------------------
    Rule("Pages", apps("open_browser", "browser", "webbrowser_open_new", "use_redirect_file"), None, _BROWSER),
    Rule("Pages", apps("custom_display_url"), None, "the start-up banner shows the URLs the server listens on"),
    Rule("Pages", apps("default_url"), None, _FRONTEND),
    Rule(
        "Pages",
        (
            *apps("enable_mathjax", "mathjax_url", "mathjax_config", "extra_nbextensions_path"),
            *apps("extra_static_paths", "extra_template_paths", "jinja_environment_options", "jinja_template_vars"),
            *apps("ignore_minified_js", "static_immutable_cache", "quit_button", "show_banner"),
        ),
        None,
        _FRONTEND,
    ),
    Rule("Pages", apps("pylab"), None, "disabled since notebook 5; use %matplotlib in a kernel"),
    Rule("Pages", apps("autoreload"), None, "no development reloader; restart the server"),
    Rule("Logging", apps("log_level", f"{GATEWAY}.log_level"), "CoreServerApp.log_level"),
    Rule("Logging", apps("log_format", f"{GATEWAY}.log_format"), "CoreServerApp.log_format"),
    Rule("Logging", apps("log_datefmt", f"{GATEWAY}.log_datefmt"), "CoreServerApp.log_datefmt"),
    Rule("Logging", apps("log_json"), None, "logs are plain text"),
    # -- browser security -------------------------------------------------------------------------
    Rule("Browser security", apps("allow_origin", f"{GATEWAY}.allow_origin"), "CoreServerApp.allow_origin"),
    Rule("Browser security", apps("allow_origin_pat"), "CoreServerApp.allow_origin_pat"),
    Rule("Browser security", apps("allow_credentials"), "CoreServerApp.allow_credentials"),
    Rule(
        "Browser security",
        (f"{GATEWAY}.allow_credentials",),
        "CoreServerApp.allow_credentials",
        "the string 'true' becomes true",
        "true_string",
    ),
    Rule(
        "Browser security",
        (f"{GATEWAY}.allow_headers", f"{GATEWAY}.allow_methods", f"{GATEWAY}.expose_headers", f"{GATEWAY}.max_age"),
        None,
        "CORS preflight answers list every method and header the API uses",
    ),
    Rule("Browser security", apps("allow_remote_access"), "CoreServerApp.allow_remote_access"),
    Rule("Browser security", apps("local_hostnames"), "CoreServerApp.local_hostnames"),
    Rule(
        "Browser security",
        apps("disable_check_xsrf"),
        None,
        "XSRF checks apply to cookie-authenticated requests only and stay on; token clients are unaffected",
    ),
    Rule("Browser security", apps("allow_root"), None, "the server does not refuse to run as root"),
    # -- authentication ---------------------------------------------------------------------------
    Rule("Authentication", apps("token", "IdentityProvider.token", f"{GATEWAY}.auth_token"), "Authenticator.token"),
    Rule(
        "Authentication",
        apps("password", "PasswordIdentityProvider.hashed_password"),
        "Authenticator.hashed_password",
        "argon2 hashes move over; older sha1 hashes are dropped (set a new password)",
        "password",
    ),
    Rule(
        "Authentication",
        apps("cookie_secret", f"{GATEWAY}.cookie_secret"),
        "Authenticator.cookie_secret",
        "bytes become their hexadecimal text",
        "secret",
    ),
    Rule(
        "Authentication",
        apps("cookie_secret_file", f"{GATEWAY}.cookie_secret_file"),
        None,
        "set Authenticator.cookie_secret; without it, cookies end with the process",
    ),
    Rule("Authentication", ("IdentityProvider.cookie_name",), "Authenticator.cookie_name"),
    Rule(
        "Authentication",
        ("IdentityProvider.secure_cookie",),
        "Authenticator.secure_cookie",
        "unset (None) is left out",
        "not_none",
    ),
    Rule(
        "Authentication",
        apps(
            "cookie_options",
            "get_secure_cookie_kwargs",
            "IdentityProvider.cookie_options",
            "IdentityProvider.get_secure_cookie_kwargs",
        ),
        None,
        "login cookies are HttpOnly and SameSite=Lax; their lifetime is Authenticator.cookie_max_age_days",
    ),
    Rule(
        "Authentication",
        apps(
            "password_required",
            "allow_password_change",
            "PasswordIdentityProvider.password_required",
            "PasswordIdentityProvider.allow_password_change",
        ),
        None,
        "the login page checks Authenticator.hashed_password; passwords are not set from the login page",
    ),
    Rule(
        "Authentication",
        ("ServerApp.allow_unauthenticated_access",),
        None,
        "every route requires authentication unless a plugin marks it public",
    ),
    Rule("Authentication", ("IdentityProvider.updatable_fields",), None, "the identity model is read-only"),
    Rule("Authentication", apps("authenticate_prometheus"), None, "there is no /metrics endpoint"),
    Rule(
        "Authentication",
        ("ServerApp.extra_log_scrub_param_keys",),
        None,
        "tokens and other credentials are never logged",
    ),
    # -- implementation classes -----------------------------------------------------------------
    Rule(
        "Implementation classes",
        (
            *apps(
                "contents_manager_class", "kernel_manager_class", "session_manager_class", "kernel_spec_manager_class"
            ),
            *apps("config_manager_class", "login_handler_class", "logout_handler_class"),
            "ServerApp.identity_provider_class",
            "ServerApp.authorizer_class",
            "ServerApp.kernel_websocket_connection_class",
            "IdentityProvider.login_handler_class",
            "IdentityProvider.logout_handler_class",
            "MultiKernelManager.kernel_manager_class",
            f"{GATEWAY}.kernel_manager_class",
            f"{GATEWAY}.kernel_spec_manager_class",
            f"{GATEWAY}.kernel_websocket_connection_class",
            f"{GATEWAY}.identity_provider_class",
            f"{GATEWAY}.authorizer_class",
        ),
        None,
        _CLASS_TRAIT,
    ),
    Rule("Implementation classes", apps("extra_services"), None, "services are added by plugins"),
    Rule("Implementation classes", ("NotebookApp.webapp_settings",), None, "deprecated since notebook 4"),
    # -- plugins ----------------------------------------------------------------------------------
    Rule(
        "Plugins",
        ("NotebookApp.server_extensions", "NotebookApp.nbserver_extensions", "ServerApp.jpserver_extensions"),
        "CoreServerApp.plugins",
        "each extension becomes a plugin enabled or disabled at the same level, when a plugin does its job",
        "extensions",
    ),
    Rule("Plugins", apps("reraise_server_extension_failures"), "CoreServerApp.strict_plugins"),
    # -- server lifetime ---------------------------------------------------------------------------
    Rule("Server lifetime", apps("shutdown_no_activity_timeout"), "CoreServerApp.shutdown_no_activity_timeout"),
    Rule(
        "Server lifetime",
        apps("tornado_settings"),
        "KernelService.websocket_max_message_size",
        "websocket_max_message_size and headers move over (a Content-Security-Policy among the headers "
        "replaces the default frame-ancestors 'self'); other tornado settings are dropped",
        "tornado_settings",
        ("CoreServerApp.response_headers",),
    ),
    # -- kernels ------------------------------------------------------------------------------------
    Rule("Kernels", ("MappingKernelManager.cull_idle_timeout",), "KernelService.cull_idle_timeout"),
    Rule("Kernels", ("MappingKernelManager.cull_interval",), "KernelService.cull_interval"),
    Rule("Kernels", ("MappingKernelManager.cull_connected",), "KernelService.cull_connected"),
    Rule("Kernels", ("MappingKernelManager.cull_busy",), "KernelService.cull_busy"),
    Rule("Kernels", ("MappingKernelManager.buffer_offline_messages",), "KernelService.buffer_offline_messages"),
    Rule("Kernels", ("MappingKernelManager.kernel_info_timeout",), "KernelService.kernel_info_timeout"),
    Rule(
        "Kernels",
        (
            "MultiKernelManager.default_kernel_name",
            "MappingKernelManager.default_kernel_name",
            f"{GATEWAY}.default_kernel_name",
        ),
        "KernelService.default_kernel_name",
    ),
    Rule("Kernels", (f"{GATEWAY}.force_kernel_name",), "KernelService.force_kernel_name"),
    Rule(
        "Kernels",
        (f"{GATEWAY}.max_kernels",),
        "KernelService.max_kernels",
        "unset (None) is left out; 0 means no limit",
        "not_none",
    ),
    Rule(
        "Kernels",
        (f"{GATEWAY}.prespawn_count",),
        "KernelService.pool",
        (
            "becomes a pool of that many warm kernels of the default kernel "
            "(KernelGatewayApp.default_kernel_name, else python3)"
        ),
        "prespawn",
    ),
    Rule(
        "Kernels",
        (f"{GATEWAY}.seed_uri",),
        "KernelService.seed_notebook",
        "local paths and file: URIs only; a remote URI is dropped",
        "seed_uri",
    ),
    Rule(
        "Kernels",
        ("JupyterWebsocketPersonality.env_whitelist", f"{GATEWAY}.allowed_envs"),
        "KernelService.allowed_env",
        "empty names are left out",
        "name_list",
    ),
    Rule("Kernels", ("JupyterWebsocketPersonality.list_kernels",), "KernelService.list_kernels"),
    Rule("Kernels", (f"{GATEWAY}.env_process_whitelist",), None, "kernels inherit the server's whole environment"),
    Rule(
        "Kernels",
        (f"{GATEWAY}.api",),
        None,
        "the server always offers the Jupyter websocket API (Kernel Gateway's default personality)",
    ),
    Rule(
        "Kernels",
        (
            "NotebookHTTPPersonality.cell_parser",
            "NotebookHTTPPersonality.comment_prefix",
            "NotebookHTTPPersonality.allow_notebook_download",
            "NotebookHTTPPersonality.static_path",
        ),
        None,
        _NOTEBOOK_HTTP,
    ),
    Rule(
        "Kernels",
        ("MappingKernelManager.allowed_message_types",),
        None,
        "every message type is relayed; restrict what kernels do with a kernel provisioner",
    ),
    Rule(
        "Kernels",
        ("MappingKernelManager.allow_tracebacks", "MappingKernelManager.traceback_replacement_message"),
        None,
        "kernel tracebacks are the kernel's output and are relayed unchanged",
    ),
    Rule(
        "Kernels",
        ("MappingKernelManager.untracked_message_types",),
        None,
        "activity is tracked from execution requests and status changes",
    ),
    Rule("Kernels", ("MappingKernelManager.root_dir",), None, "kernels start under CoreServerApp.root_dir"),
    Rule(
        "Kernels",
        ("MappingKernelManager.transport_encryption",),
        None,
        "kernel connections stay on the loopback interface unencrypted, as jupyter_client's default",
    ),
    Rule("Kernels", ("MultiKernelManager.shared_context",), None, "one ZMQ context is always shared"),
    Rule(
        "Kernels",
        apps("allow_external_kernels", "external_connection_dir"),
        None,
        "kernels started outside the server are not adopted",
    ),
    # -- kernel websocket ------------------------------------------------------------------------
    Rule(
        "Kernel websocket", apps("limit_rate", "BaseKernelWebsocketConnection.limit_rate"), "KernelService.limit_rate"
    ),
    Rule(
        "Kernel websocket",
        apps("iopub_msg_rate_limit", "BaseKernelWebsocketConnection.iopub_msg_rate_limit"),
        "KernelService.iopub_msg_rate_limit",
    ),
    Rule(
        "Kernel websocket",
        apps("iopub_data_rate_limit", "BaseKernelWebsocketConnection.iopub_data_rate_limit"),
        "KernelService.iopub_data_rate_limit",
    ),
    Rule(
        "Kernel websocket",
        apps("rate_limit_window", "BaseKernelWebsocketConnection.rate_limit_window"),
        "KernelService.rate_limit_window",
    ),
    Rule(
        "Kernel websocket",
        ("ServerApp.websocket_ping_interval", f"{GATEWAY}.ws_ping_interval"),
        "KernelService.websocket_ping_interval",
    ),
    Rule(
        "Kernel websocket",
        ("ServerApp.kernel_ws_protocol", "BaseKernelWebsocketConnection.kernel_ws_protocol"),
        None,
        "both the legacy and the v1 protocol are offered; each client chooses",
    ),
    Rule(
        "Kernel websocket",
        ("BaseKernelWebsocketConnection.session",),
        None,
        "the message session belongs to each kernel",
    ),
    # -- sessions -----------------------------------------------------------------------------------
    Rule("Sessions", ("SessionManager.database_filepath",), "SessionManager.database_filepath"),
    # -- contents -------------------------------------------------------------------------------------
    Rule("Contents", ("ContentsManager.root_dir",), "ContentsManager.root_dir"),
    Rule("Contents", ("ContentsManager.allow_hidden",), "ContentsManager.allow_hidden"),
    Rule("Contents", ("ContentsManager.hide_globs",), "ContentsManager.hide_globs"),
    Rule("Contents", ("ContentsManager.delete_to_trash",), "ContentsManager.delete_to_trash"),
    Rule("Contents", ("ContentsManager.always_delete_dir",), "ContentsManager.always_delete_dir"),
    Rule("Contents", ("ContentsManager.use_atomic_writing",), "ContentsManager.use_atomic_writing"),
    Rule("Contents", ("ContentsManager.hash_algorithm",), "ContentsManager.hash_algorithm"),
    Rule("Contents", ("ContentsManager.max_copy_folder_size_mb",), "ContentsManager.max_copy_folder_size_mb"),
    Rule("Contents", ("ContentsManager.untitled_notebook",), "ContentsManager.untitled_notebook"),
    Rule("Contents", ("ContentsManager.untitled_file",), "ContentsManager.untitled_file"),
    Rule("Contents", ("ContentsManager.untitled_directory",), "ContentsManager.untitled_directory"),
    Rule(
        "Contents",
        ("ContentsManager.pre_save_hook",),
        "ContentsManager.pre_save_hook",
        "import strings move over; a function defined in the file stays in the untranslated part",
    ),
    Rule(
        "Contents",
        ("ContentsManager.post_save_hook",),
        "ContentsManager.post_save_hook",
        "import strings move over; a function defined in the file stays in the untranslated part",
    ),
    Rule("Contents", ("FileCheckpoints.checkpoint_dir",), "FileCheckpoints.checkpoint_dir"),
    Rule(
        "Contents",
        ("ContentsManager.checkpoints_class", "ContentsManager.checkpoints", "ContentsManager.checkpoints_kwargs"),
        None,
        "checkpoint stores are chosen by name with ContentsManager.checkpoints",
    ),
    Rule(
        "Contents",
        ("ContentsManager.files_handler_class", "ContentsManager.files_handler_params"),
        None,
        "/files is served by the contents plugin",
    ),
    Rule("Contents", ("ContentsManager.event_logger",), None, "not a setting"),
    # -- terminals ------------------------------------------------------------------------------------
    Rule("Terminals", apps("terminals_enabled"), "TerminalManager.enabled"),
    Rule(
        "Terminals",
        apps("terminado_settings"),
        "TerminalManager.shell_command",
        "only shell_command has an equivalent",
        "terminado_settings",
    ),
    Rule("Terminals", ("TerminalManager.cull_inactive_timeout",), "TerminalManager.cull_inactive_timeout"),
    Rule("Terminals", ("TerminalManager.cull_interval",), "TerminalManager.cull_interval"),
    # -- nbconvert ----------------------------------------------------------------------------------
    Rule("Nbconvert", ("ServerApp.nbconvert_csp_sandbox",), None, "converted HTML is always served sandboxed"),
)
