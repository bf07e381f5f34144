# Warnings.cmake - the warning set every project target compiles with.
function(mw_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow=local
                                             -Wnon-virtual-dtor -Wimplicit-fallthrough)
endfunction()
