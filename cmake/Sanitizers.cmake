# Sanitizers.cmake - MAILWARDEN_SANITIZE=ON builds everything with ASan and UBSan.
option(MAILWARDEN_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(MAILWARDEN_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
endif()
