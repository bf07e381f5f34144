# Warnings.cmake - the warning set every project target compiles with.
function(mw_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow=local
                                             -Wnon-virtual-dtor -Wimplicit-fallthrough)
    # XXX: g++ 12 at -O3 (Release) reports -Wrestrict inside libstdc++'s own
    # std::string operator+ (GCC bug 105329, fixed in 13): keep it a warning there.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
        target_compile_options(${target} PRIVATE -Wno-error=restrict)
    endif()
endfunction()
