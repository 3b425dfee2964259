/* Joins the per-area function tables into the "sys" module and adds the values that are not functions:
 * the process's argv and the SysError class. */
#include "sys.h"
#include "sys_internal.h"

static int program_argc;
static char **program_argv;

static const struct {
    const JSCFunctionListEntry *entries;
    const int *count;
} function_tables[] = {
    { sys_fs_functions, &sys_fs_function_count },
    { sys_process_functions, &sys_process_function_count },
    { sys_system_functions, &sys_system_function_count },
    { sys_port_functions, &sys_port_function_count },
    { sys_crypto_functions, &sys_crypto_function_count },
};

static JSValue new_argv_array(JSContext *ctx)
{
    JSValue array = JS_NewArray(ctx);
    for (int index = 0; index < program_argc && !JS_IsException(array); index++) {
        if (JS_SetPropertyUint32(ctx, array, (uint32_t)index, JS_NewString(ctx, program_argv[index])) < 0) {
            JS_FreeValue(ctx, array);
            array = JS_EXCEPTION;
        }
    }
    return array;
}

static int initialize_exports(JSContext *ctx, JSModuleDef *module)
{
    for (int table = 0; table < SYS_COUNT_OF(function_tables); table++)
        if (JS_SetModuleExportList(ctx, module, function_tables[table].entries, *function_tables[table].count) < 0)
            return -1;
    JSValue argv_array = new_argv_array(ctx);
    if (JS_IsException(argv_array) || JS_SetModuleExport(ctx, module, "argv", argv_array) < 0)
        return -1;
    return JS_SetModuleExport(ctx, module, "SysError", sys_error_constructor(ctx));
}

JSModuleDef *sys_module_new(JSContext *ctx, const char *name, int argc, char **argv)
{
    program_argc = argc;
    program_argv = argv;
    if (sys_support_init(ctx) < 0)
        return NULL;
    JSModuleDef *module = JS_NewCModule(ctx, name, initialize_exports);
    if (!module)
        return NULL;
    for (int table = 0; table < SYS_COUNT_OF(function_tables); table++)
        if (JS_AddModuleExportList(ctx, module, function_tables[table].entries, *function_tables[table].count) < 0)
            return NULL;
    if (JS_AddModuleExport(ctx, module, "argv") < 0 || JS_AddModuleExport(ctx, module, "SysError") < 0)
        return NULL;
    return module;
}
